`default_nettype none

// One PCI function, the part every PCI personality shares (PciFunction under VirtioPciEndpointModel
// and IvshmemEndpointModel in the model): configuration space (the emulated type-0 header with its
// BAR registers, the MSI-X capability, the PCI cfg access capability when the description has one,
// and the generated capability ROM for every other word), the BARs' host ports with the cfg access
// window's arbiter in front of each, the MSI-X BAR (table, PBA) and MSI-X delivery, and the firmware
// CSR port with its event FIFO. The personality gets, for every other BAR, the AXI4-Lite link behind
// the arbiter (dev_req_o/dev_rsp_i), and gives back its interrupt condition, its MSI-X triggers, its
// fw_csr hardware inputs and its events. Every parameter comes from the personality's generated
// endpoint package (hw/rtl/gen/<name>_ep_pkg.sv). BAR links travel in flat vectors, BAR i in bits
// AXIL_REQ_W*i (AXIL_RSP_W*i): Yosys 0.23 reads no array of structs.
module ep_pci_function #(
  parameter bit             EmulateHeader     = 1'b1,  // 0: vendor hard IP owns the type-0 header
  parameter int unsigned    CfgAw             = 12,
  parameter int unsigned    FwAw              = 12,
  parameter logic [15:0]    VendorId          = '0,
  parameter logic [15:0]    DeviceId          = '0,
  parameter logic [7:0]     RevisionId        = '0,
  parameter logic [7:0]     BaseClass         = '0,
  parameter logic [7:0]     Subclass          = '0,
  parameter logic [7:0]     ProgIf            = '0,
  parameter logic [15:0]    SubsystemVendorId = '0,
  parameter logic [15:0]    SubsystemId       = '0,
  parameter logic [7:0]     CapPtr            = '0,
  parameter logic [47:0]    BarAw             = 48'h0c0e,  // BAR i's address bits in bits 8*i+7:8*i (0: absent)
  parameter logic [191:0]   BarWmask          = '0,
  parameter logic [191:0]   BarType           = '0,
  parameter logic [1535:0]  CapRom            = '0,  // config words 0x40-0xff
  parameter logic [11:0]    MsixCapOffset     = 12'h40,
  parameter logic [11:0]    PciCfgCapOffset   = '0,  // 0: no PCI cfg access capability
  parameter int unsigned    MsixVectors       = 1,
  parameter int unsigned    MsixBar           = 1,  // the BAR of the MSI-X table and PBA, nothing else in it
  parameter logic [63:0]    MsixTableOffset   = '0,
  parameter logic [63:0]    MsixPbaOffset     = '0,
  parameter int unsigned    EventDepth        = 64,
  parameter int unsigned    NP                = 1,   // event push ports
  parameter logic [7:0]     VirtioDeviceId    = '0,
  parameter int unsigned    Queues            = 0,
  parameter int unsigned    ChunkSlots        = 0
) (
  input  wire logic                                 clk_i,
  input  wire logic                                 rst_ni,
  // Configuration space, BARs 0-5 (host side) and the firmware CSR port
  input  wire axil_pkg::axil_req_t                  cfg_req_i,
  output axil_pkg::axil_rsp_t                       cfg_rsp_o,
  input  wire logic [6*axil_pkg::AXIL_REQ_W-1:0]    bar_req_i,
  output logic [6*axil_pkg::AXIL_RSP_W-1:0]         bar_rsp_o,
  input  wire axil_pkg::axil_req_t                  fw_req_i,
  output axil_pkg::axil_rsp_t                       fw_rsp_o,
  // The personality's BARs (idle for an absent BAR and the MSI-X BAR)
  output logic [6*axil_pkg::AXIL_REQ_W-1:0]         dev_req_o,
  input  wire logic [6*axil_pkg::AXIL_RSP_W-1:0]    dev_rsp_i,
  // Interrupts: the personality's INTx condition, and what it triggers on MSI-X
  input  wire logic                                 intx_i,
  input  wire logic                                 msix_trigger_i,
  input  wire logic [15:0]                          msix_vector_i,
  input  wire logic                                 msix_cfg_trigger_i,
  input  wire logic [15:0]                          msix_cfg_vector_i,
  input  wire logic                                 msix_clear_i,     // device reset: drop pending bits
  output logic                                      msix_enable_o,
  output logic                                      bus_master_o,     // command.bus_master
  // Firmware: fw_csr's registers, its msix_trigger write (the vector is in fw_reg2hw_o a clock
  // later, with fw_trigger_o), the personality's events and fw_csr inputs
  output fw_csr_reg_pkg::fw_csr_reg2hw_t            fw_reg2hw_o,
  input  wire fw_csr_reg_pkg::fw_csr_hw2reg_t       fw_hw2reg_i,
  output logic                                      fw_trigger_o,
  input  wire logic [NP-1:0]                        push_i,
  input  wire logic [8*NP-1:0]                      push_kind_i,
  input  wire logic [32*NP-1:0]                     push_data_i,
  output logic [NP-1:0]                             push_grant_o,
  output logic                                      fw_irq_o,
  // MSI messages
  output logic                                      msi_valid_o,
  input  wire logic                                 msi_ready_i,
  output logic [63:0]                               msi_addr_o,
  output logic [31:0]                               msi_data_o
);

  localparam int unsigned ReqW       = axil_pkg::AXIL_REQ_W;
  localparam int unsigned RspW       = axil_pkg::AXIL_RSP_W;
  localparam bit          HasCfgCap  = PciCfgCapOffset != 12'h0;
  localparam int unsigned CfgN       = HasCfgCap ? 3 : 2;
  localparam int unsigned MsixAw     = 32'(BarAw[8*MsixBar+:8]);
  localparam logic [5:0]  BarPresent = {BarAw[47:40] != 8'h0, BarAw[39:32] != 8'h0, BarAw[31:24] != 8'h0,
                                        BarAw[23:16] != 8'h0, BarAw[15:8] != 8'h0, BarAw[7:0] != 8'h0};

  function automatic in_window(input [63:0] addr, input [63:0] offset, input [63:0] length);
    in_window = addr >= offset && addr - offset < length;
  endfunction

  pci_header_reg_pkg::pci_header_reg2hw_t                   header_reg2hw;
  pci_header_reg_pkg::pci_header_hw2reg_t                   header_hw2reg;
  msix_cap_reg_pkg::msix_cap_reg2hw_t                       msix_cap_reg2hw;
  msix_cap_reg_pkg::msix_cap_hw2reg_t                       msix_cap_hw2reg;
  msix_table_reg_pkg::msix_table_reg2hw_t                   msix_table_reg2hw;
  msix_table_reg_pkg::msix_table_hw2reg_t                   msix_table_hw2reg;
  msix_pba_reg_pkg::msix_pba_reg2hw_t                       msix_pba_reg2hw;
  msix_pba_reg_pkg::msix_pba_hw2reg_t                       msix_pba_hw2reg;

  // ---- configuration space: the type-0 header, then the capability list ----
  // The capabilities that hold driver-written state (MSI-X message control, the PCI cfg access
  // window) are register blocks; every other word of 0x40-0xff is the generated CapRom.

  localparam logic [CfgAw-1:0] MsixCap = CfgAw'(MsixCapOffset);
  localparam logic [CfgAw-1:0] CfgCap  = CfgAw'(PciCfgCapOffset);

  logic [CfgAw-1:0]    cfg_dec_addr, cfg_m_addr;
  logic                cfg_dec_we;
  logic [CfgN-1:0]     cfg_dec_sel;
  logic [31:0]         cfg_m_wdata;
  logic [3:0]          cfg_m_wstrb;
  logic [CfgN-1:0]     cfg_m_awvalid, cfg_m_awready, cfg_m_wvalid, cfg_m_wready;
  logic [CfgN-1:0]     cfg_m_bvalid, cfg_m_bready, cfg_m_arvalid, cfg_m_arready;
  logic [32*CfgN-1:0]  cfg_m_rdata;
  logic [CfgN-1:0]     cfg_m_rvalid, cfg_m_rready;
  logic                cfg_loc_req, cfg_loc_ack;
  logic [31:0]         cfg_loc_rdata;

  ep_axil_demux #(.N(CfgN), .AW(CfgAw)) u_cfg_demux (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .s_req_i    (cfg_req_i),
    .s_rsp_o    (cfg_rsp_o),
    .dec_addr_o (cfg_dec_addr),
    .dec_we_o   (cfg_dec_we),
    .dec_sel_i  (cfg_dec_sel),
    .m_addr_o   (cfg_m_addr),
    .m_wdata_o  (cfg_m_wdata),
    .m_wstrb_o  (cfg_m_wstrb),
    .m_awvalid_o(cfg_m_awvalid),
    .m_awready_i(cfg_m_awready),
    .m_wvalid_o (cfg_m_wvalid),
    .m_wready_i (cfg_m_wready),
    .m_bvalid_i (cfg_m_bvalid),
    .m_bready_o (cfg_m_bready),
    .m_arvalid_o(cfg_m_arvalid),
    .m_arready_i(cfg_m_arready),
    .m_rdata_i  (cfg_m_rdata),
    .m_rvalid_i (cfg_m_rvalid),
    .m_rready_o (cfg_m_rready),
    .loc_req_o  (cfg_loc_req),
    .loc_ack_i  (cfg_loc_ack),
    .loc_rdata_i(cfg_loc_rdata)
  );

  always_comb begin
    cfg_dec_sel = '0;
    if (cfg_dec_addr < CfgAw'('h40)) cfg_dec_sel[0] = EmulateHeader;
    else if (cfg_dec_addr >= MsixCap && cfg_dec_addr < MsixCap + CfgAw'('hc)) cfg_dec_sel[1] = 1'b1;
    else if (HasCfgCap && cfg_dec_addr >= CfgCap && cfg_dec_addr < CfgCap + CfgAw'('h14)) cfg_dec_sel[CfgN-1] = 1'b1;
  end

  logic [5:0] cap_word;  // config word of a local access, in 0x40-0xff
  assign cap_word      = cfg_dec_addr[7:2] - 6'h10;
  assign cfg_loc_ack   = cfg_loc_req;
  assign cfg_loc_rdata = (cfg_dec_addr >= CfgAw'('h40) && cfg_dec_addr < CfgAw'('h100)) ?
                         CapRom[32*cap_word+:32] : 32'h0;

  pci_header_reg_top #(.AW(CfgAw)) u_header (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (cfg_m_addr),
    .s_axil_awvalid_i(cfg_m_awvalid[0]),
    .s_axil_awready_o(cfg_m_awready[0]),
    .s_axil_wdata_i  (cfg_m_wdata),
    .s_axil_wstrb_i  (cfg_m_wstrb),
    .s_axil_wvalid_i (cfg_m_wvalid[0]),
    .s_axil_wready_o (cfg_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (cfg_m_bvalid[0]),
    .s_axil_bready_i (cfg_m_bready[0]),
    .s_axil_araddr_i (cfg_m_addr),
    .s_axil_arvalid_i(cfg_m_arvalid[0]),
    .s_axil_arready_o(cfg_m_arready[0]),
    .s_axil_rdata_o  (cfg_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (cfg_m_rvalid[0]),
    .s_axil_rready_i (cfg_m_rready[0]),
    .reg2hw_o        (header_reg2hw),
    .hw2reg_i        (header_hw2reg)
  );

  msix_cap_reg_top #(.AW(CfgAw)) u_msix_cap (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (CfgAw'(cfg_m_addr - MsixCap)),
    .s_axil_awvalid_i(cfg_m_awvalid[1]),
    .s_axil_awready_o(cfg_m_awready[1]),
    .s_axil_wdata_i  (cfg_m_wdata),
    .s_axil_wstrb_i  (cfg_m_wstrb),
    .s_axil_wvalid_i (cfg_m_wvalid[1]),
    .s_axil_wready_o (cfg_m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (cfg_m_bvalid[1]),
    .s_axil_bready_i (cfg_m_bready[1]),
    .s_axil_araddr_i (CfgAw'(cfg_m_addr - MsixCap)),
    .s_axil_arvalid_i(cfg_m_arvalid[1]),
    .s_axil_arready_o(cfg_m_arready[1]),
    .s_axil_rdata_o  (cfg_m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (cfg_m_rvalid[1]),
    .s_axil_rready_i (cfg_m_rready[1]),
    .reg2hw_o        (msix_cap_reg2hw),
    .hw2reg_i        (msix_cap_hw2reg)
  );

  ep_bar_regs u_bars (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .wmask_i(BarWmask),
    .type_i (BarType),
    .re_i   (header_reg2hw.bar.re),
    .we_i   (header_reg2hw.bar.we),
    .idx_i  (header_reg2hw.bar.idx),
    .wdata_i(header_reg2hw.bar.wdata),
    .be_i   (header_reg2hw.bar.be),
    .ack_o  (header_hw2reg.bar.ack),
    .rdata_o(header_hw2reg.bar.rdata)
  );

  assign msix_enable_o = msix_cap_reg2hw.message_control.enable.q;
  assign bus_master_o  = header_reg2hw.command.bus_master.q;

  always_comb begin
    header_hw2reg.vendor_id.vendor_id.d = VendorId;
    header_hw2reg.vendor_id.vendor_id.de = 1'b1;
    header_hw2reg.device_id.device_id.d = DeviceId;
    header_hw2reg.device_id.device_id.de = 1'b1;
    // INTx status follows the personality's interrupt condition while MSI-X is off.
    header_hw2reg.status.interrupt_status.d = intx_i && !msix_enable_o;
    header_hw2reg.status.interrupt_status.de = 1'b1;
    header_hw2reg.status.capabilities_list.d = CapPtr != 8'h0;
    header_hw2reg.status.capabilities_list.de = 1'b1;
    header_hw2reg.revision_id.revision_id.d = RevisionId;
    header_hw2reg.revision_id.revision_id.de = 1'b1;
    header_hw2reg.prog_if.prog_if.d = ProgIf;
    header_hw2reg.prog_if.prog_if.de = 1'b1;
    header_hw2reg.subclass.subclass.d = Subclass;
    header_hw2reg.subclass.subclass.de = 1'b1;
    header_hw2reg.base_class.base_class.d = BaseClass;
    header_hw2reg.base_class.base_class.de = 1'b1;
    header_hw2reg.header_type.header_type.d = 8'h00;
    header_hw2reg.header_type.header_type.de = 1'b1;
    header_hw2reg.subsystem_vendor_id.subsystem_vendor_id.d = SubsystemVendorId;
    header_hw2reg.subsystem_vendor_id.subsystem_vendor_id.de = 1'b1;
    header_hw2reg.subsystem_id.subsystem_id.d = SubsystemId;
    header_hw2reg.subsystem_id.subsystem_id.de = 1'b1;
    header_hw2reg.capabilities_ptr.capabilities_ptr.d = CapPtr;
    header_hw2reg.capabilities_ptr.capabilities_ptr.de = 1'b1;
    header_hw2reg.interrupt_pin.interrupt_pin.d = 8'h01;
    header_hw2reg.interrupt_pin.interrupt_pin.de = 1'b1;  // INTA#
  end

  // The read-only fields of the MSI-X capability, from the words the ROM holds for it.
  logic [31:0] msix_w0, msix_w1, msix_w2;
  assign msix_w0 = CapRom[32*((MsixCap - CfgAw'('h40)) >> 2)+:32];
  assign msix_w1 = CapRom[32*(((MsixCap - CfgAw'('h40)) >> 2) + 1)+:32];
  assign msix_w2 = CapRom[32*(((MsixCap - CfgAw'('h40)) >> 2) + 2)+:32];

  always_comb begin
    msix_cap_hw2reg.cap_id.cap_id.d = msix_w0[7:0];
    msix_cap_hw2reg.cap_id.cap_id.de = 1'b1;
    msix_cap_hw2reg.cap_next.cap_next.d = msix_w0[15:8];
    msix_cap_hw2reg.cap_next.cap_next.de = 1'b1;
    msix_cap_hw2reg.message_control.table_size.d = msix_w0[26:16];
    msix_cap_hw2reg.message_control.table_size.de = 1'b1;
    msix_cap_hw2reg.vector_table.bir.d = msix_w1[2:0];
    msix_cap_hw2reg.vector_table.bir.de = 1'b1;
    msix_cap_hw2reg.vector_table.offset.d = msix_w1[31:3];
    msix_cap_hw2reg.vector_table.offset.de = 1'b1;
    msix_cap_hw2reg.pending_array.bir.d = msix_w2[2:0];
    msix_cap_hw2reg.pending_array.bir.de = 1'b1;
    msix_cap_hw2reg.pending_array.offset.d = msix_w2[31:3];
    msix_cap_hw2reg.pending_array.offset.de = 1'b1;
  end

  // ---- the PCI cfg access window: pci_cfg_data reaches the BAR the capability names ----

  logic [31:0]  win_addr, win_wdata;
  logic [3:0]   win_wstrb;
  logic [5:0]   win_awvalid, win_awready, win_wvalid, win_wready, win_bvalid, win_bready;
  logic [5:0]   win_arvalid, win_arready, win_rvalid, win_rready;
  logic [191:0] win_rdata;

  // (Declared here, not in the generate block: Yosys 0.23 cannot resolve a struct declared there.)
  virtio_pci_cfg_cap_reg_pkg::virtio_pci_cfg_cap_reg2hw_t cfg_cap_reg2hw;
  virtio_pci_cfg_cap_reg_pkg::virtio_pci_cfg_cap_hw2reg_t cfg_cap_hw2reg;
  logic        win_ack;
  logic [31:0] win_rdata_cfg;  // what pci_cfg_data reads
  logic [31:0] cfgcap_w0, cfgcap_w1;

  if (HasCfgCap) begin : g_cfg_cap
    virtio_pci_cfg_cap_reg_top #(.AW(CfgAw)) u_cfg_cap (
      .clk_i           (clk_i),
      .rst_ni          (rst_ni),
      .s_axil_awaddr_i (CfgAw'(cfg_m_addr - CfgCap)),
      .s_axil_awvalid_i(cfg_m_awvalid[2]),
      .s_axil_awready_o(cfg_m_awready[2]),
      .s_axil_wdata_i  (cfg_m_wdata),
      .s_axil_wstrb_i  (cfg_m_wstrb),
      .s_axil_wvalid_i (cfg_m_wvalid[2]),
      .s_axil_wready_o (cfg_m_wready[2]),
      .s_axil_bresp_o  (),
      .s_axil_bvalid_o (cfg_m_bvalid[2]),
      .s_axil_bready_i (cfg_m_bready[2]),
      .s_axil_araddr_i (CfgAw'(cfg_m_addr - CfgCap)),
      .s_axil_arvalid_i(cfg_m_arvalid[2]),
      .s_axil_arready_o(cfg_m_arready[2]),
      .s_axil_rdata_o  (cfg_m_rdata[32*2+:32]),
      .s_axil_rresp_o  (),
      .s_axil_rvalid_o (cfg_m_rvalid[2]),
      .s_axil_rready_i (cfg_m_rready[2]),
      .reg2hw_o        (cfg_cap_reg2hw),
      .hw2reg_i        (cfg_cap_hw2reg)
    );

    ep_pci_cfg_window #(.BarPresent(BarPresent), .BarAw(BarAw)) u_cfg_window (
      .clk_i      (clk_i),
      .rst_ni     (rst_ni),
      .re_i       (cfg_cap_reg2hw.pci_cfg_data.re),
      .we_i       (cfg_cap_reg2hw.pci_cfg_data.we),
      .wdata_i    (cfg_cap_reg2hw.pci_cfg_data.wdata),
      .ack_o      (win_ack),
      .rdata_o    (win_rdata_cfg),
      .bar_i      (cfg_cap_reg2hw.bar.bar.q),
      .offset_i   (cfg_cap_reg2hw.offset.offset.q),
      .length_i   (cfg_cap_reg2hw.length.length.q),
      .m_addr_o   (win_addr),
      .m_wdata_o  (win_wdata),
      .m_wstrb_o  (win_wstrb),
      .m_awvalid_o(win_awvalid),
      .m_awready_i(win_awready),
      .m_wvalid_o (win_wvalid),
      .m_wready_i (win_wready),
      .m_bvalid_i (win_bvalid),
      .m_bready_o (win_bready),
      .m_arvalid_o(win_arvalid),
      .m_arready_i(win_arready),
      .m_rdata_i  (win_rdata),
      .m_rvalid_i (win_rvalid),
      .m_rready_o (win_rready)
    );

    // The read-only fields of the capability, from the words the ROM holds for it.
    assign cfgcap_w0 = CapRom[32*((CfgCap - CfgAw'('h40)) >> 2)+:32];
    assign cfgcap_w1 = CapRom[32*(((CfgCap - CfgAw'('h40)) >> 2) + 1)+:32];
    always_comb begin
      cfg_cap_hw2reg.cap_vndr.cap_vndr.d = cfgcap_w0[7:0];
      cfg_cap_hw2reg.cap_vndr.cap_vndr.de = 1'b1;
      cfg_cap_hw2reg.cap_next.cap_next.d = cfgcap_w0[15:8];
      cfg_cap_hw2reg.cap_next.cap_next.de = 1'b1;
      cfg_cap_hw2reg.cap_len.cap_len.d = cfgcap_w0[23:16];
      cfg_cap_hw2reg.cap_len.cap_len.de = 1'b1;
      cfg_cap_hw2reg.cfg_type.cfg_type.d = cfgcap_w0[31:24];
      cfg_cap_hw2reg.cfg_type.cfg_type.de = 1'b1;
      cfg_cap_hw2reg.id.id.d = cfgcap_w1[15:8];
      cfg_cap_hw2reg.id.id.de = 1'b1;
      cfg_cap_hw2reg.pci_cfg_data.ack = win_ack;
      cfg_cap_hw2reg.pci_cfg_data.rdata = win_rdata_cfg;
    end
  end else begin : g_no_cfg_cap
    assign win_addr    = '0;
    assign win_wdata   = '0;
    assign win_wstrb   = '0;
    assign win_awvalid = '0;
    assign win_wvalid  = '0;
    assign win_bready  = '0;
    assign win_arvalid = '0;
    assign win_rready  = '0;
    assign cfg_cap_reg2hw = '0;
    assign cfg_cap_hw2reg = '0;
    assign win_ack        = 1'b0;
    assign win_rdata_cfg  = '0;
    assign cfgcap_w0      = '0;
    assign cfgcap_w1      = '0;
  end

  // ---- the BARs: the host's port and the cfg access window share each BAR's link ----

  logic [6*ReqW-1:0] link_req;
  logic [6*RspW-1:0] link_rsp;
  axil_pkg::axil_req_t msix_req;
  axil_pkg::axil_rsp_t msix_rsp;

  for (genvar b = 0; b < 6; b++) begin : g_bar
    if (!BarPresent[b]) begin : g_absent
      // No port, so no request; the window never offers one for an absent BAR.
      assign bar_rsp_o[RspW*b+:RspW] = '0;
      assign link_req[ReqW*b+:ReqW]  = '0;
      assign win_awready[b] = 1'b0;
      assign win_wready[b]  = 1'b0;
      assign win_bvalid[b]  = 1'b0;
      assign win_arready[b] = 1'b0;
      assign win_rdata[32*b+:32] = 32'h0;
      assign win_rvalid[b]  = 1'b0;
    end else if (HasCfgCap) begin : g_arb
      ep_axil_arb u_arb (
        .clk_i       (clk_i),
        .rst_ni      (rst_ni),
        .s0_req_i    (bar_req_i[ReqW*b+:ReqW]),
        .s0_rsp_o    (bar_rsp_o[RspW*b+:RspW]),
        .s1_addr_i   (win_addr),
        .s1_awvalid_i(win_awvalid[b]),
        .s1_awready_o(win_awready[b]),
        .s1_wdata_i  (win_wdata),
        .s1_wstrb_i  (win_wstrb),
        .s1_wvalid_i (win_wvalid[b]),
        .s1_wready_o (win_wready[b]),
        .s1_bvalid_o (win_bvalid[b]),
        .s1_bready_i (win_bready[b]),
        .s1_arvalid_i(win_arvalid[b]),
        .s1_arready_o(win_arready[b]),
        .s1_rdata_o  (win_rdata[32*b+:32]),
        .s1_rvalid_o (win_rvalid[b]),
        .s1_rready_i (win_rready[b]),
        .m_req_o     (link_req[ReqW*b+:ReqW]),
        .m_rsp_i     (link_rsp[RspW*b+:RspW])
      );
    end else begin : g_host
      assign link_req[ReqW*b+:ReqW]  = bar_req_i[ReqW*b+:ReqW];
      assign bar_rsp_o[RspW*b+:RspW] = link_rsp[RspW*b+:RspW];
      assign win_awready[b] = 1'b0;
      assign win_wready[b]  = 1'b0;
      assign win_bvalid[b]  = 1'b0;
      assign win_arready[b] = 1'b0;
      assign win_rdata[32*b+:32] = 32'h0;
      assign win_rvalid[b]  = 1'b0;
    end
    if (b == MsixBar) begin : g_msix_bar
      assign dev_req_o[ReqW*b+:ReqW] = '0;
      assign link_rsp[RspW*b+:RspW]  = msix_rsp;
    end else begin : g_dev_bar
      assign dev_req_o[ReqW*b+:ReqW] = link_req[ReqW*b+:ReqW];
      assign link_rsp[RspW*b+:RspW]  = dev_rsp_i[RspW*b+:RspW];
    end
  end
  assign msix_req = link_req[ReqW*MsixBar+:ReqW];

  // ---- the MSI-X BAR: table and PBA ----

  logic [MsixAw-1:0] msix_dec_addr, msix_m_addr;
  logic              msix_dec_we;
  logic [1:0]        msix_dec_sel;
  logic [31:0]       msix_m_wdata;
  logic [3:0]        msix_m_wstrb;
  logic [1:0]        msix_m_awvalid, msix_m_awready, msix_m_wvalid, msix_m_wready;
  logic [1:0]        msix_m_bvalid, msix_m_bready, msix_m_arvalid, msix_m_arready;
  logic [63:0]       msix_m_rdata;
  logic [1:0]        msix_m_rvalid, msix_m_rready;
  logic              msix_loc_req;

  ep_axil_demux #(.N(2), .AW(MsixAw)) u_msix_demux (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .s_req_i    (msix_req),
    .s_rsp_o    (msix_rsp),
    .dec_addr_o (msix_dec_addr),
    .dec_we_o   (msix_dec_we),
    .dec_sel_i  (msix_dec_sel),
    .m_addr_o   (msix_m_addr),
    .m_wdata_o  (msix_m_wdata),
    .m_wstrb_o  (msix_m_wstrb),
    .m_awvalid_o(msix_m_awvalid),
    .m_awready_i(msix_m_awready),
    .m_wvalid_o (msix_m_wvalid),
    .m_wready_i (msix_m_wready),
    .m_bvalid_i (msix_m_bvalid),
    .m_bready_o (msix_m_bready),
    .m_arvalid_o(msix_m_arvalid),
    .m_arready_i(msix_m_arready),
    .m_rdata_i  (msix_m_rdata),
    .m_rvalid_i (msix_m_rvalid),
    .m_rready_o (msix_m_rready),
    .loc_req_o  (msix_loc_req),
    .loc_ack_i  (msix_loc_req),  // the holes of the MSI-X BAR
    .loc_rdata_i(32'h0)
  );

  always_comb begin
    msix_dec_sel = '0;
    msix_dec_sel[0] = in_window(64'(msix_dec_addr), MsixTableOffset, 64'(MsixVectors) * 64'h10);
    msix_dec_sel[1] = in_window(64'(msix_dec_addr), MsixPbaOffset, 64'h8);
  end

  logic [MsixAw-1:0] msix_table_addr;
  assign msix_table_addr = MsixAw'(msix_m_addr - MsixAw'(MsixTableOffset));

  msix_table_reg_top #(.AW(MsixAw)) u_msix_table (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (msix_table_addr),
    .s_axil_awvalid_i(msix_m_awvalid[0]),
    .s_axil_awready_o(msix_m_awready[0]),
    .s_axil_wdata_i  (msix_m_wdata),
    .s_axil_wstrb_i  (msix_m_wstrb),
    .s_axil_wvalid_i (msix_m_wvalid[0]),
    .s_axil_wready_o (msix_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (msix_m_bvalid[0]),
    .s_axil_bready_i (msix_m_bready[0]),
    .s_axil_araddr_i (msix_table_addr),
    .s_axil_arvalid_i(msix_m_arvalid[0]),
    .s_axil_arready_o(msix_m_arready[0]),
    .s_axil_rdata_o  (msix_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (msix_m_rvalid[0]),
    .s_axil_rready_i (msix_m_rready[0]),
    .reg2hw_o        (msix_table_reg2hw),
    .hw2reg_i        (msix_table_hw2reg)
  );

  msix_pba_reg_top #(.AW(MsixAw)) u_msix_pba (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (MsixAw'(msix_m_addr - MsixAw'(MsixPbaOffset))),
    .s_axil_awvalid_i(msix_m_awvalid[1]),
    .s_axil_awready_o(msix_m_awready[1]),
    .s_axil_wdata_i  (msix_m_wdata),
    .s_axil_wstrb_i  (msix_m_wstrb),
    .s_axil_wvalid_i (msix_m_wvalid[1]),
    .s_axil_wready_o (msix_m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (msix_m_bvalid[1]),
    .s_axil_bready_i (msix_m_bready[1]),
    .s_axil_araddr_i (MsixAw'(msix_m_addr - MsixAw'(MsixPbaOffset))),
    .s_axil_arvalid_i(msix_m_arvalid[1]),
    .s_axil_arready_o(msix_m_arready[1]),
    .s_axil_rdata_o  (msix_m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (msix_m_rvalid[1]),
    .s_axil_rready_i (msix_m_rready[1]),
    .reg2hw_o        (msix_pba_reg2hw),
    .hw2reg_i        (msix_pba_hw2reg)
  );

  // MSI-X delivery reads the table's message address and data through their RAM read ports.
  logic [4:0] msix_raddr;
  always_comb begin
    msix_table_hw2reg.entry_msg_addr_lo.raddr = msix_raddr;
    msix_table_hw2reg.entry_msg_addr_hi.raddr = msix_raddr;
    msix_table_hw2reg.entry_msg_data.raddr    = msix_raddr;
  end

  logic [63:0] msix_pending;
  ep_msix #(.Vectors(MsixVectors)) u_msix (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .trigger_i       (msix_trigger_i),
    .trigger_vector_i(msix_vector_i),
    .cfg_trigger_i   (msix_cfg_trigger_i),
    .cfg_vector_i    (msix_cfg_vector_i),
    .clear_pending_i (msix_clear_i),
    .enable_i        (msix_enable_o),
    .function_mask_i (msix_cap_reg2hw.message_control.function_mask.q),
    .bus_master_i    (bus_master_o),
    .table_raddr_o   (msix_raddr),
    .addr_lo_i       (msix_table_reg2hw.entry_msg_addr_lo.rdata),
    .addr_hi_i       (msix_table_reg2hw.entry_msg_addr_hi.rdata),
    .data_i          (msix_table_reg2hw.entry_msg_data.rdata),
    .mask_i          (msix_table_reg2hw.entry_vector_control.mask.q),
    .pending_o       (msix_pending),
    .msi_valid_o     (msi_valid_o),
    .msi_ready_i     (msi_ready_i),
    .msi_addr_o      (msi_addr_o),
    .msi_data_o      (msi_data_o)
  );
  assign msix_pba_hw2reg.pending.pending.d  = msix_pending;
  assign msix_pba_hw2reg.pending.pending.de = 1'b1;

  // ---- the firmware CSR port ----

  ep_fw_port #(
    .FwAw          (FwAw),
    .EventDepth    (EventDepth),
    .NP            (NP),
    .VirtioDeviceId(VirtioDeviceId),
    .Queues        (Queues),
    .Vectors       (MsixVectors),
    .ChunkSlots    (ChunkSlots)
  ) u_fw (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .fw_req_i    (fw_req_i),
    .fw_rsp_o    (fw_rsp_o),
    .push_i      (push_i),
    .push_kind_i (push_kind_i),
    .push_data_i (push_data_i),
    .push_grant_o(push_grant_o),
    .fw_irq_o    (fw_irq_o),
    .reg2hw_o    (fw_reg2hw_o),
    .hw2reg_i    (fw_hw2reg_i)
  );

  // msix_trigger's swmod comes with the write; the vector written is in q a clock later.
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) fw_trigger_o <= 1'b0;
    else fw_trigger_o <= fw_reg2hw_o.msix_trigger.vector.swmod;
  end

`ifndef SYNTHESIS
  initial begin
    assert (BarPresent[MsixBar]) else $fatal(1, "ep_pci_function: the MSI-X BAR %0d is absent", MsixBar);
  end
`endif

endmodule

`default_nettype wire
