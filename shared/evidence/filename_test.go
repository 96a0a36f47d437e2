package evidence_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/facepay/platform/shared/domain"
	"github.com/facepay/platform/shared/evidence"
)

func TestParseFileName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want evidence.FileName
	}{
		{"with mode", "[2软件预检测结果]-[示例科技][K1 Pro][SDK模式].xls",
			evidence.FileName{Head: "2软件预检测结果", Number: 2, Title: "软件预检测结果", Vendor: "示例科技", Model: "K1 Pro", Mode: "SDK模式", Ext: ".xls"}},
		{"without mode", "[4设备安装&操作手册]-[示例科技][K1].pdf",
			evidence.FileName{Head: "4设备安装&操作手册", Number: 4, Title: "设备安装&操作手册", Vendor: "示例科技", Model: "K1", Ext: ".pdf"}},
		{"certificate", "[SRRC证书]-[V][M].PDF",
			evidence.FileName{Head: "SRRC证书", Title: "SRRC证书", Vendor: "V", Model: "M", Ext: ".PDF"}},
		{"dash in names", "[2温升测试]-[A-B][X-1].zip",
			evidence.FileName{Head: "2温升测试", Number: 2, Title: "温升测试", Vendor: "A-B", Model: "X-1", Ext: ".zip"}},
		{"long number is title", "[123456abc]-[V][M].zip",
			evidence.FileName{Head: "123456abc", Title: "123456abc", Vendor: "V", Model: "M", Ext: ".zip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := evidence.ParseFileName(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in, got.String())
		})
	}
}

func TestParseFileNameRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"plain", "report.pdf"},
		{"two brackets", "[1x]-[V].pdf"},
		{"five brackets", "[1x]-[V][M][SDK模式][more].pdf"},
		{"unclosed", "[1x]-[V][M.pdf"},
		{"empty bracket", "[1x]-[][M].pdf"},
		{"nested", "[1[x]-[V][M].pdf"},
		{"dash missing", "[1x][V][M].pdf"},
		{"space before ext", "[1x]-[V][M] .pdf"},
		{"double ext", "[1x]-[V][M].pdf.exe"},
		{"dot only", "[1x]-[V][M]."},
		{"path", "[1x]-[V][a/b].pdf"},
		{"backslash", "C:\\fakepath\\[1x]-[V][M].pdf"},
		{"control", "[1x]-[V\x00][M].pdf"},
		{"not utf-8", "[1x]-[V\xff][M].pdf"},
		{"too long", "[1x]-[" + strings.Repeat("v", 300) + "][M].pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evidence.ParseFileName(tt.in)
			require.Error(t, err)
			assert.Equal(t, "bad_file_name", domain.CodeOf(err))
			assert.Equal(t, domain.Invalid, domain.KindOf(err))
		})
	}
}
